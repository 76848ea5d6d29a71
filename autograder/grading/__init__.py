"""What is graded, and by which rule: the declarations of the cases files and the from-scratch rule."""
