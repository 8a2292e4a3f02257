/*
 * fuzz_json.c -- libFuzzer target for the JSON dump importer (into a replica
 * with a user and one without).
 */
#include "fuzz_import.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_format = "json";
	return (fuzz_import(data, size, 1));
}
