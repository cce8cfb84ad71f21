"""Paperless delivery of issued invoices.

The invoice run announces every issued invoice of an e-mail customer on a queue; a paced sender
(``service.DeliveryService``) e-mails it and records its delivery status. Invoices of customers who
get post go into one print batch per run execution (``print_batch.PrintRun``), built when the run
is finalized. The modules are imported one by one, so that the sender never loads pypdf.
"""
