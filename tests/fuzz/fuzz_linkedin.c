/*
 * fuzz_linkedin.c -- libFuzzer target for the LinkedIn Connections.csv
 * importer.
 */
#include "fuzz_import.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_format = "linkedin";
	return (fuzz_import(data, size, 0));
}
