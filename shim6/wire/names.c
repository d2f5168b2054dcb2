/* Names and texts: error strings, message and option type names. */
#include <shim6/wire.h>

const uint8_t shim6_cga_msg_type_tag[SHIM6_CGA_TAG_LEN] = {
	0x4a, 0x30, 0x56, 0x62, 0x48, 0x58, 0x57, 0x4b,
	0x36, 0x55, 0x41, 0x6f, 0x50, 0x6a, 0x6d, 0x48,
};

static const char *const errstr[SHIM6_E__COUNT] = {
	[0]                          = "success",
	[-SHIM6_E_INVAL]             = "invalid argument",
	[-SHIM6_E_NOSPACE]           = "output buffer too small",
	[-SHIM6_E_FIELD]             = "field value exceeds its width",
	[-SHIM6_E_TRUNC]             = "message truncated",
	[-SHIM6_E_PBIT]              = "P bit: payload extension header, not a control message",
	[-SHIM6_E_HIPBIT]            = "Shim6/HIP discriminator bit is not zero",
	[-SHIM6_E_CSUM]              = "bad checksum",
	[-SHIM6_E_BADTYPE]           = "unknown message type",
	[-SHIM6_E_HDRLEN]            = "Hdr Ext Len below the minimum for the message type",
	[-SHIM6_E_PROBE_LEN]         = "Probe shorter than its Psent + Precvd reports",
	[-SHIM6_E_OPT_TRUNC]         = "option runs past the end of the message",
	[-SHIM6_E_OPT_CRIT_UNKNOWN]  = "unknown critical option",
	[-SHIM6_E_OPT_LEN]           = "option content length invalid for its type",
	[-SHIM6_E_OPT_DUP]           = "option repeated",
	[-SHIM6_E_OPT_TOO_MANY]      = "too many options",
	[-SHIM6_E_LOCLIST_COUNT]     = "Locator List length disagrees with Num Locators",
	[-SHIM6_E_LOCLIST_METHOD]    = "Locator List: unknown verification method",
	[-SHIM6_E_LOCPREF_ELEMLEN]   = "Locator Preferences: Element Length 0",
	[-SHIM6_E_LOCPREF_LEN]       = "Locator Preferences: length not a whole number of elements",
	[-SHIM6_E_LOCPREF_COUNT]     = "Locator Preferences count differs from the Locator List",
	[-SHIM6_E_MISSING_VALIDATOR] = "Responder Validator option missing",
	[-SHIM6_E_CGA_SIG_ORPHAN]    = "CGA Signature without a Locator List",
	[-SHIM6_E_PAYLOAD_LEN]       = "payload extension header with Hdr Ext Len not 0",
};

const char *shim6_wire_strerror(int err)
{
	if (err > 0 || err <= -SHIM6_E__COUNT || !errstr[-err])
		return "unknown error";
	return errstr[-err];
}

int shim6_wire_error_code(int err)
{
	switch (err) {
	case SHIM6_E_BADTYPE:          return SHIM6_ERRCODE_UNKNOWN_TYPE;
	case SHIM6_E_OPT_CRIT_UNKNOWN: return SHIM6_ERRCODE_CRITICAL_OPTION;
	case SHIM6_E_LOCPREF_COUNT:    return SHIM6_ERRCODE_PREF_COUNT;
	default:                       return -1;
	}
}

const char *shim6_wire_type_name(unsigned type)
{
	switch (type) {
	case SHIM6_TYPE_I1:         return "I1";
	case SHIM6_TYPE_R1:         return "R1";
	case SHIM6_TYPE_I2:         return "I2";
	case SHIM6_TYPE_R2:         return "R2";
	case SHIM6_TYPE_R1BIS:      return "R1bis";
	case SHIM6_TYPE_I2BIS:      return "I2bis";
	case SHIM6_TYPE_UPDATE_REQ: return "Update Request";
	case SHIM6_TYPE_UPDATE_ACK: return "Update Acknowledgement";
	case SHIM6_TYPE_KEEPALIVE:  return "Keepalive";
	case SHIM6_TYPE_PROBE:      return "Probe";
	case SHIM6_TYPE_ERROR:      return "Error";
	default:                    return "Unknown";
	}
}

const char *shim6_wire_opt_name(unsigned type)
{
	switch (type) {
	case SHIM6_OPT_RESP_VALIDATOR:    return "Responder Validator";
	case SHIM6_OPT_LOCATOR_LIST:      return "Locator List";
	case SHIM6_OPT_LOCATOR_PREFS:     return "Locator Preferences";
	case SHIM6_OPT_CGA_PDS:           return "CGA Parameter Data Structure";
	case SHIM6_OPT_CGA_SIGNATURE:     return "CGA Signature";
	case SHIM6_OPT_ULID_PAIR:         return "ULID Pair";
	case SHIM6_OPT_FORKED_INSTANCE:   return "Forked Instance Identifier";
	case SHIM6_OPT_KEEPALIVE_TIMEOUT: return "Keepalive Timeout";
	default:                          return "Unknown";
	}
}
