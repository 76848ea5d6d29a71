"""The judge's view of a submission: call its functions, receive only data."""
