# man: build fragment, included from the top Makefile.am
# The rule language and settings pages; portctl(8) and portctld(8) are
# listed by the programs' own fragments.
dist_man_MANS += man/portctl.rules.5 man/portctl.conf.5
dist_man_MANS += man/portctl.8 man/portctld.8
