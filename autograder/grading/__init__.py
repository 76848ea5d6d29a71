"""What is graded and how it scores: declarations, the from-scratch rule, the one-notebook pipeline."""
