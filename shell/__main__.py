from shell.fast import main

main()
