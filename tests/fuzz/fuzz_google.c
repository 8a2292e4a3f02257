/*
 * fuzz_google.c -- libFuzzer target for the Google Contacts CSV importer.
 */
#include "fuzz_import.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_format = "google";
	return (fuzz_import(data, size, 0));
}
