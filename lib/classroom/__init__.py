"""The class's state, kept where every server of the class sees it (`store`: memory, an SQLite
file by default, Redis for replicas): today the tasks' progress of every browser (`progress`),
presence, nicknames and the teacher's pushes; the teacher's room builds on it."""
