"""Printing on A4 and what a print records: a citizen's documents, released documents and blank forms,
checked, paid and printed (documents.py: DocumentPrintFlow, FormLibrary); the one A4 job that reads a
CUPS job's state for documents and guides alike (job.py: A4Job); the one `print` record of every
service (record.py: PrintRecord); the one end of a thermal receipt, its hotline, feed and cut (sign_off.py).
The guides print theirs in kiosk/core/guides/ with the job and the record."""
