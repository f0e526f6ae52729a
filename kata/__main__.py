from kata.cli import main

raise SystemExit(main())
