"""The grading package of the CNN course: ``python -m autograder grade PATH...``."""
