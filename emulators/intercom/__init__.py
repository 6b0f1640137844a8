"""A standalone, stateful, spec-faithful Intercom REST + OAuth emulator.

Run it with ``python -m emulators.intercom --host 127.0.0.1 --port 8765``; see README.md beside this file.
It never imports the Syncline product. The app factory is ``emulators.intercom.app.create_app``.
"""
