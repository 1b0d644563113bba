"""Signals other apps listen to; this app only sends them.

`user_registered(sender=User, user=..., request=...)` is sent inside the registration
transaction, right after the account row is created. The legal app connects a receiver
that records the user's acceptance of the current terms version when one exists; a
receiver that raises rolls the registration back, so no account exists without its
recorded acceptance.
"""

from django.dispatch import Signal

user_registered = Signal()
