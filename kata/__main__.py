from kata.tools.cli import main

raise SystemExit(main())
