"""The class load test's parts: `protocol` (one student speaking Streamlit's websocket protocol),
`students` (Locust users built on it), `procmon` (memory and CPU from /proc), `server` (the
server under test), `report` (the tables). The command is bench/class_load.py."""
