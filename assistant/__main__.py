from assistant.serving.cli import main

raise SystemExit(main())
