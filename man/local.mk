dist_man_MANS += man/veilfs.1 man/veilctl.1 man/veilfs.conf.5
