"""nbgrader's side: autograde with the sandboxed scores, and the hidden cases in a notebook kernel."""
