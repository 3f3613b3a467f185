from grc.manage import main

main()
