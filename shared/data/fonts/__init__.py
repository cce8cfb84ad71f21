"""DejaVu Sans and DejaVu Sans Bold, pre-subset to Latin for the PDF renderer (see README.md)."""
