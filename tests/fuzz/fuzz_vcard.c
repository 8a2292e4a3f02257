/*
 * fuzz_vcard.c -- libFuzzer target for the vCard importer.
 */
#include "fuzz_import.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_format = "vcard";
	return (fuzz_import(data, size, 0));
}
