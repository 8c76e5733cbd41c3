"""`python -m ui [--host H] [--port P]`: serve the web page (same as `assistant serve`)."""

from ui.server import main

raise SystemExit(main())
