"""The pure core: mapping, merge, conditions, scoring, segments, lifecycle, nurture and alerts.

Plain data in, plain data out. Nothing here does I/O or imports Flask, SQLAlchemy or a CRM SDK; the
engine around it reads the CRMs and the store, calls these functions, and applies what they return.
"""
