# Cross-VM secrecy, the holder: a secret in every page of RAM and in device registers, kept a while.
SRCS_hostile-secret = hostile/secret/secret.c common/probe.S
