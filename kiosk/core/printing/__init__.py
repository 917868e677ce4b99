"""Printing a citizen's documents: released documents and blank forms, checked, paid and followed to
the end of their CUPS job (documents.py: DocumentPrintFlow, FormLibrary). The guides print theirs in
kiosk/core/guides/; both read the typed IPP job state of kiosk/hardware/cups.py."""
