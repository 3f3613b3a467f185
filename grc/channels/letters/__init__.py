"""Letters (courrier): registering the paper received with its scan, reading it (OCR in the
background), and writing letters on the collectivité's letterhead for window envelopes."""
