"""What students get: the release repository, and the cells written into every notebook."""
