# Checksums its own .text (binary patching must be invisible to it). Built without debug info
# (-g0 after the common -g), so it is also the guest whose coverage is function-level only.
CFLAGS_selfsum = -g0
LDFLAGS_selfsum = '-Wl,--defsym=__text_end=ADDR(.text)+SIZEOF(.text)'
