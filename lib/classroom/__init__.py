"""The class's state, kept beside the sessions: today the tasks' progress of every browser
(`progress`); the teacher's room adds presence, pushes and the class's drawings here."""
