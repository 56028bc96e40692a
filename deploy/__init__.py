"""Hosting beyond one process: deploy/launch.py (replicas behind nginx), deploy/measure.py, k8s/."""
