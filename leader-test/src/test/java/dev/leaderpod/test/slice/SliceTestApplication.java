package dev.leaderpod.test.slice;

import org.springframework.boot.SpringBootConfiguration;

/** The configuration the slices of this package find: nothing of its own, each test imports what it tests. */
@SpringBootConfiguration
class SliceTestApplication {}
