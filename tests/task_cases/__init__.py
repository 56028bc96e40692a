"""What test_tasks needs of each page's tasks, one module per page (the page's id, "-" as "_")."""
