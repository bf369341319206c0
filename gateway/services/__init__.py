"""The gateway's logic as plain functions and small classes; routes only translate HTTP."""
