from arm.cli import main

raise SystemExit(main())
