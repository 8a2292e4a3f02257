/*
 * fuzz_envelope.c -- libFuzzer target for the decoders of what arrives
 * from the relay once an envelope is opened: the letter (structure and
 * signature), its body for every letter type, and the contact card.
 *
 * Besides not crashing, it checks canonicality: a body or a card that
 * decodes must encode back to exactly the input bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tly_letter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int types[] = { TLY_L_PROPOSE, TLY_L_CONFIRM, TLY_L_DECLINE,
	TLY_L_REVOKE, TLY_L_INTRO_ASK, TLY_L_INTRO_CONSENT,
	TLY_L_INTRO_DECLINE, TLY_L_INTRO_CANCEL, TLY_L_INTRO_RECORD,
	TLY_L_INTRO_HELLO, TLY_L_INTRO_SIGNED, 0, 99 };

/* Decodes p[0..n) as a body of type; re-encodes what decodes. */
static void
body(int type, const uint8_t *p, size_t n)
{
	tly_mail_body b;
	tly_signed    s;
	tly_card      c;
	tly_buf       out = TLY_BUF_INIT;
	int           why;

	if (tly_mail_body_decode(&b, type, p, n, &why) != 0)
		return;
	if (tly_mail_body_encode(&out, type, &b, &why) != 0 || out.len != n ||
	    memcmp(out.p, p, n) != 0)
		abort();
	if (b.rec != NULL &&
	    tly_signed_decode(&s, b.rec, b.rec_len, &why) == 0)
		(void) tly_signed_verify(&s, NULL, &why);
	if (b.target != NULL)
		(void) tly_signed_decode(&s, b.target, b.target_len, &why);
	if (b.card != NULL)
		(void) tly_card_decode(&c, b.card, b.card_len, &why);
	tly_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	tly_letter l;
	tly_card   c;
	tly_buf    out = TLY_BUF_INIT;
	int        why;

	if (!init) {
		if (tly_proto_init() != 0)
			abort();
		init = 1;
	}
	if (tly_letter_decode(&l, data, size, &why) == 0) {
		if (l.body_len > TLY_LETTER_BODY_MAX ||
		    l.body + l.body_len > data + size)
			abort();
		(void) tly_letter_verify(&l, data, size, &why);
		body(l.type, l.body, l.body_len);
	}
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		body(types[i], data, size);
	if (tly_card_decode(&c, data, size, &why) == 0) {
		if (tly_card_encode(&out, &c, &why) != 0 || out.len != size ||
		    memcmp(out.p, data, size) != 0)
			abort();
		tly_buf_free(&out);
	}
	return (0);
}
