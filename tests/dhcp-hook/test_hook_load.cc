// Loads the real libdhcp_pshim6.so through Kea's HooksManager, as kea-dhcp6
// does: bad parameter maps must make load() fail (and nothing be thrown), a
// good map must load, and lease6_select must then turn Kea's candidate into
// a CMULA that verifies, the same one for Solicit and Request.
#include <hooks/callout_handle.h>
#include <hooks/hooks_manager.h>
#include <hooks/libinfo.h>
#include <hooks/server_hooks.h>
#include <dhcp/duid.h>
#include <dhcpsrv/lease.h>
#include <dhcpsrv/lease_mgr.h>
#include <dhcpsrv/lease_mgr_factory.h>
#include <cc/data.h>
#include <log/logger_support.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

using namespace isc;
using namespace isc::dhcp;
using namespace isc::hooks;
using isc::asiolink::IOAddress;
using isc::data::ConstElementPtr;
using isc::data::Element;

namespace {

int failures = 0;

void check(bool ok, const std::string &what) {
    std::cout << (ok ? "ok   " : "FAIL ") << what << std::endl;
    failures += ok ? 0 : 1;
}

std::string pub_path, priv_path;

void make_keys() {
    EVP_PKEY *k = EVP_RSA_gen(1024);
    pub_path = "/tmp/pdh-load-" + std::to_string(getpid()) + ".pub";
    priv_path = "/tmp/pdh-load-" + std::to_string(getpid()) + ".key";
    FILE *f = std::fopen(pub_path.c_str(), "w");
    PEM_write_PUBKEY(f, k);
    std::fclose(f);
    f = std::fopen(priv_path.c_str(), "w");
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    EVP_PKEY_free(k);
}

bool load_with(const std::string &lib, const std::string &params_json) {
    HookLibsCollection libs;
    libs.push_back(HookLibInfo(lib, Element::fromJSON(params_json)));
    bool ok = false;
    try {
        ok = HooksManager::loadLibraries(libs);
    } catch (const std::exception &e) {
        std::cout << "     exception escaped: " << e.what() << std::endl;
        return false;
    }
    return ok;
}

Lease6Ptr candidate(const char *addr, uint8_t duid_last, uint32_t iaid) {
    std::vector<uint8_t> d = {0, 1, 0, 1, 0x11, 0x22, 0x33, 0x44, 0, 0x16, 0x3e, 0, 0, duid_last};
    DuidPtr duid(new DUID(d));
    return Lease6Ptr(new Lease6(Lease::TYPE_NA, IOAddress(addr), duid, iaid, 300, 600, 1));
}

Lease6Ptr select(int index, Lease6Ptr lease, bool fake) {
    CalloutHandlePtr h = HooksManager::createCalloutHandle();
    h->setArgument("fake_allocation", fake);
    h->setArgument("lease6", lease);
    HooksManager::callCallouts(index, *h);
    Lease6Ptr out;
    h->getArgument("lease6", out);
    return out;
}

bool in_cmula(const IOAddress &a) {
    std::vector<uint8_t> b = a.toBytes();
    const uint8_t want[8] = {0xfd, 0, 0, 1, 0, 0, 0, 0};
    return b.size() == 16 && std::memcmp(b.data(), want, 8) == 0;
}

std::string ctx_field(const Lease6Ptr &l, const char *name) {
    ConstElementPtr c = l->getContext();
    if (!c || !c->get("pshim6") || !c->get("pshim6")->get(name))
        return "";
    ConstElementPtr v = c->get("pshim6")->get(name);
    return v->getType() == Element::string ? v->stringValue() : v->str();
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: test_dhcp_hook_load /path/to/libdhcp_pshim6.so" << std::endl;
        return 2;
    }
    const std::string lib = argv[1];
    isc::log::initLogger("pshim6-load-test", isc::log::INFO, 0, nullptr, false);
    make_keys();
    ServerHooks &sh = ServerHooks::getServerHooks();
    const int i_select = sh.registerHook("lease6_select");
    sh.registerHook("leases6_committed");
    sh.registerHook("lease6_release");
    sh.registerHook("lease6_expire");
    LeaseMgrFactory::create("type=memfile universe=6 persist=false");

    const std::string key = "\"public-key-file\":\"" + pub_path + "\"";
    const std::string pfx = "\"cmula-prefix\":\"fd00:1::/64\"";
    struct Bad { const char *why; std::string json; } bad[] = {
        {"empty map", "{}"},
        {"no cmula-prefix", "{" + key + "}"},
        {"missing key file", "{\"public-key-file\":\"/nonexistent.pem\"," + pfx + "}"},
        {"private key file", "{\"public-key-file\":\"" + priv_path + "\"," + pfx + "}"},
        {"sec 2", "{" + key + "," + pfx + ",\"sec\":2}"},
        {"sec as string", "{" + key + "," + pfx + ",\"sec\":\"1\"}"},
        {"mode rsa", "{" + key + "," + pfx + ",\"mode\":\"rsa\"}"},
        {"hba without pa-prefixes", "{" + key + "," + pfx + ",\"mode\":\"hba\"}"},
        {"pa-prefixes not a list", "{" + key + "," + pfx + ",\"mode\":\"hba\",\"pa-prefixes\":\"2001:db8::/64\"}"},
        {"cmula-prefix /48", "{" + key + ",\"cmula-prefix\":\"fd00:1::/48\"}"},
        {"unknown parameter", "{" + key + "," + pfx + ",\"secc\":1}"},
    };
    for (const Bad &b : bad)
        check(!load_with(lib, b.json), "load() refuses: " + std::string(b.why));

    check(load_with(lib, "{" + key + "," + pfx + ",\"sec\":0,\"mode\":\"hba\","
                         "\"pa-prefixes\":[\"2001:db8:a::/64\",\"2001:db8:b::/64\"]}"),
          "load() accepts hba with two PA prefixes");
    check(load_with(lib, "{" + key + "," + pfx + ",\"sec\":1,\"control-socket\":\"/nonexistent/c.sock\"}"),
          "load() accepts cga, sec 1, absent control socket");
    check(HooksManager::calloutsPresent(i_select), "lease6_select callout registered");

    // Solicit, then Request with another candidate: one CMULA.
    Lease6Ptr s = select(i_select, candidate("fd00:1::5", 1, 7), true);
    Lease6Ptr r = select(i_select, candidate("fd00:1::9", 1, 7), false);
    const std::string a = s->addr_.toText();
    check(a != "fd00:1::5" && in_cmula(s->addr_),
          "Solicit candidate replaced by " + a);
    check(r->addr_ == s->addr_, "Request gets the same CMULA " + r->addr_.toText());
    check(!ctx_field(r, "pds").empty() && ctx_field(r, "mode") == "cga" && ctx_field(r, "sec") == "1",
          "user-context holds pshim6 {mode, sec, pds}");
    uint8_t b8 = r->addr_.toBytes()[8];
    check((b8 >> 5) == 1 && (b8 & 3) == 0, "interface identifier carries Sec 1, u=g=0");

    // Another client, and the same DUID with another IAID: other CMULAs.
    Lease6Ptr o = select(i_select, candidate("fd00:1::5", 2, 7), true);
    Lease6Ptr o2 = select(i_select, candidate("fd00:1::5", 1, 8), true);
    check(o->addr_ != s->addr_ && o2->addr_ != s->addr_ && o->addr_ != o2->addr_,
          "other clients get other CMULAs");

    // Committed by Kea: the Request of a third client whose pending CMULA
    // someone else now holds in the lease DB gets a fresh one.
    Lease6Ptr t = select(i_select, candidate("fd00:1::5", 3, 1), true);
    Lease6Ptr thief = candidate(t->addr_.toText().c_str(), 9, 9);
    LeaseMgrFactory::instance().addLease(thief);
    Lease6Ptr t2 = select(i_select, candidate("fd00:1::6", 3, 1), false);
    check(t2->addr_ != t->addr_ && in_cmula(t2->addr_),
          "an address leased meanwhile is never handed out (" + t2->addr_.toText() + ")");

    // Kea reusing an expired lease (the row stays, Kea updates it): the
    // address must stay, and the stored PDS comes back if Kea dropped it.
    Lease6Ptr old = candidate(r->addr_.toText().c_str(), 1, 7);
    old->setContext(r->getContext());
    old->cltt_ = 1000;
    LeaseMgrFactory::instance().addLease(old);
    Lease6Ptr reuse = candidate(r->addr_.toText().c_str(), 5, 1);
    Lease6Ptr back = select(i_select, reuse, false);
    check(back->addr_ == r->addr_ && ctx_field(back, "pds") == ctx_field(r, "pds"),
          "reuse of an expired lease keeps its address and PDS");

    // Outside the CMULA subnet Kea's address stands.
    Lease6Ptr x = select(i_select, candidate("2001:db8:a::5", 4, 1), true);
    check(x->addr_.toText() == "2001:db8:a::5" && !x->getContext(), "other subnets untouched");

    check(HooksManager::unloadLibraries(), "unload");
    std::remove(pub_path.c_str());
    std::remove(priv_path.c_str());
    std::cout << (failures ? "FAILED " : "PASSED ") << failures << " failures" << std::endl;
    return failures ? 1 : 0;
}
