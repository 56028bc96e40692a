"""One replica of a lecture hall: `streamlit run` of the app that starts preparing at once.

    python -m deploy.replica run streamlit_app.py --server.port 8601 ...   (Streamlit's own arguments)

A server started with `streamlit run` imports TensorFlow and gets the class model ready only once a
first page has been drawn (lib.server): on a teacher's one server that is the teacher's own first
look, long before the class comes; on replicas it was the first student of each replica, who then
waited for TensorFlow (Evaluate's first chart, 20 s after the start: 7.6 s instead of 3.3-3.6).
Here the same preparation starts with the process, in the background, and Streamlit's own
command-line entry runs the server in the same process: the pages find Keras imported, the class
model ready and the training worker started. deploy/launch.py starts each replica this way; the
Docker image and the Kubernetes Deployment run it too.
"""
import sys


def main():
    from lib import server, ui

    ui.prepare_server()  # what the entry point asks for at every run, asked for now
    server.prepare()
    from streamlit.web import cli

    sys.exit(cli.main(prog_name="streamlit"))


if __name__ == "__main__":
    main()
