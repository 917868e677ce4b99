"""Printing a citizen's documents: released documents and blank forms, checked, paid and printed
(documents.py: DocumentPrintFlow, FormLibrary), and the one A4 job that reads a CUPS job's state for
documents and guides alike (job.py: A4Job). The guides print theirs in kiosk/core/guides/ with it."""
