// Debian 12's kea-dev (2.2.0-6) installs dhcpsrv/network.h and srv_config.h,
// which include dhcpsrv/cfg_globals.h, but not that header.  This stand-in
// declares only the names those headers mention so they compile.  The hook
// never calls a function that reaches CfgGlobals, so neither the enumerator
// values nor the class layout matter; it is used only when the real header
// is missing (see dhcp-hook/meson.build).
#ifndef PSHIM6_KEA_COMPAT_CFG_GLOBALS_H
#define PSHIM6_KEA_COMPAT_CFG_GLOBALS_H

#include <cc/data.h>
#include <boost/shared_ptr.hpp>
#include <string>

namespace isc {
namespace dhcp {

class CfgGlobals {
public:
    enum Index : int {
        AUTHORITATIVE,
        BOOT_FILE_NAME,
        CACHE_MAX_AGE,
        CACHE_THRESHOLD,
        CALCULATE_TEE_TIMES,
        DDNS_GENERATED_PREFIX,
        DDNS_OVERRIDE_CLIENT_UPDATE,
        DDNS_OVERRIDE_NO_UPDATE,
        DDNS_QUALIFYING_SUFFIX,
        DDNS_REPLACE_CLIENT_NAME,
        DDNS_SEND_UPDATES,
        DDNS_UPDATE_ON_RENEW,
        DDNS_USE_CONFLICT_RESOLUTION,
        HOSTNAME_CHAR_REPLACEMENT,
        HOSTNAME_CHAR_SET,
        MATCH_CLIENT_ID,
        MAX_PREFERRED_LIFETIME,
        MAX_VALID_LIFETIME,
        MIN_PREFERRED_LIFETIME,
        MIN_VALID_LIFETIME,
        NEXT_SERVER,
        PREFERRED_LIFETIME,
        REBIND_TIMER,
        RENEW_TIMER,
        RESERVATIONS_GLOBAL,
        RESERVATIONS_IN_SUBNET,
        RESERVATIONS_OUT_OF_POOL,
        SERVER_HOSTNAME,
        STORE_EXTENDED_INFO,
        T1_PERCENT,
        T2_PERCENT,
        VALID_LIFETIME,
        SIZE
    };
    isc::data::ConstElementPtr get(const std::string& name) const;
    isc::data::ConstElementPtr get(int index) const;
    void set(const std::string& name, isc::data::ConstElementPtr value);
    void clear();
};

typedef boost::shared_ptr<CfgGlobals> CfgGlobalsPtr;
typedef boost::shared_ptr<const CfgGlobals> ConstCfgGlobalsPtr;

} // namespace dhcp
} // namespace isc

#endif
