/* Keeps cc_fakes a valid library while tests/fakes/ has no other sources. */
typedef int cc_fakes_empty_translation_unit;
