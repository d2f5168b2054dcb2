// libdhcp_pshim6.so: Kea 2.2 DHCPv6 hook giving each host a CGA (or HBA)
// CMULA.  This file only adapts Kea's objects to the C core in core/; every
// decision is made there.  Nothing may escape into the server: each entry
// point catches everything and logs it.

#include <hooks/hooks.h>
#include <dhcp/duid.h>
#include <dhcp/pkt6.h>
#include <dhcpsrv/lease.h>
#include <dhcpsrv/lease_mgr.h>
#include <dhcpsrv/lease_mgr_factory.h>
#include <asiolink/io_address.h>
#include <cc/data.h>
#include <log/logger.h>
#include <log/macros.h>
#include <log/message_initializer.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <openssl/rand.h>

#include "pdh.h"

using namespace isc;
using namespace isc::dhcp;
using namespace isc::hooks;
using isc::asiolink::IOAddress;
using isc::data::ConstElementPtr;
using isc::data::Element;
using isc::data::ElementPtr;

namespace {

// Kea logs through registered message IDs; these are ours.
const char *pshim6_messages[] = {
    "PSHIM6_LOAD_FAILED", "pshim6 hook: load failed: %1",
    "PSHIM6_LOADED", "pshim6 hook: loaded (mode %1, sec %2, cmula-prefix %3, %4 PA prefixes, control socket %5)",
    "PSHIM6_UNLOADED", "pshim6 hook: unloaded (%1)",
    "PSHIM6_ALLOCATED", "pshim6 hook: %1 for client %2 iaid %3 (%4)",
    "PSHIM6_ALLOC_FAILED", "pshim6 hook: no CMULA for client %1 iaid %2: %3; Kea's own address stands",
    "PSHIM6_CALLOUT_ERROR", "pshim6 hook: %1 failed: %2",
    "PSHIM6_NOTIFY_FAILED", "pshim6 hook: control daemon did not take lease %1 event for %2: %3",
    nullptr};
const isc::log::MessageInitializer pshim6_msg_init(pshim6_messages);
isc::log::Logger pshim6_logger("pshim6-hooks");

struct HookState {
    pdh_conf conf;
    pdh_pending pending;
    pdh_notifier notifier;
    pdh_modpool pool;
    bool use_pool = false;
    std::atomic<uint64_t> allocated{0}, reused{0}, collisions{0}, failures{0};
};
HookState *state = nullptr;

const char *const ctx_key = "pshim6";

uint64_t now_s() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec);
}

int rand_fill(void *, uint8_t *buf, size_t n) {
    return RAND_bytes(buf, static_cast<int>(n)) == 1 ? 0 : -1;
}

struct TakenArg {
    const uint8_t *client;
    size_t client_len;
    uint64_t now;
};

// An address is taken when Kea's lease database holds any lease on it
// (expired ones too: Kea would refuse to add a second) or when another
// client's Solicit is holding it.
int is_taken(void *arg, const uint8_t addr[16]) {
    const TakenArg *t = static_cast<const TakenArg *>(arg);
    try {
        IOAddress a = IOAddress::fromBytes(AF_INET6, addr);
        if (LeaseMgrFactory::instance().getLease6(Lease::TYPE_NA, a))
            return 1;
    } catch (const std::exception &) {
        return PDH_EIO;
    }
    return pdh_pending_addr_taken(&state->pending, addr, t->client, t->client_len, t->now);
}

std::string hex(const uint8_t *b, size_t n) {
    std::string s(2 * n + 1, '\0');
    pdh_hex_encode(&s[0], s.size(), b, n);
    s.resize(2 * n);
    return s;
}

// The "pshim6" object of a lease's user-context, or null.
ConstElementPtr lease_ctx(const Lease6Ptr &lease) {
    ConstElementPtr ctx = lease->getContext();
    if (!ctx || ctx->getType() != Element::map)
        return ConstElementPtr();
    ConstElementPtr p = ctx->get(ctx_key);
    return p && p->getType() == Element::map ? p : ConstElementPtr();
}

void set_lease_ctx(const Lease6Ptr &lease, const char *json) {
    ConstElementPtr old = lease->getContext();
    ElementPtr ctx = old && old->getType() == Element::map ? data::copy(old, 0) : Element::createMap();
    ctx->set(ctx_key, Element::fromJSON(json));
    lease->setContext(ctx);
}

void notify(const Lease6Ptr &lease, pdh_event ev) {
    ConstElementPtr p = lease_ctx(lease);
    if (!p || !state->conf.control_socket[0])
        return;
    ConstElementPtr pds_hex = p->get("pds");
    if (!pds_hex || pds_hex->getType() != Element::string)
        return;
    const std::string &h = pds_hex->stringValue();
    std::vector<uint8_t> pds(h.size() / 2 + 1);
    ssize_t n = pdh_hex_decode(pds.data(), pds.size(), h.data(), h.size());
    if (n < 0)
        return;
    std::vector<uint8_t> addr = lease->addr_.toBytes();
    std::vector<uint8_t> duid = lease->duid_ ? lease->duid_->getDuid() : std::vector<uint8_t>();
    pdh_mode mode = state->conf.mode;
    ConstElementPtr m = p->get("mode");
    if (m && m->getType() == Element::string)
        mode = m->stringValue() == "hba" ? PDH_MODE_HBA : PDH_MODE_CGA;
    std::vector<char> line(256 + 2 * size_t(n) + 2 * duid.size());
    if (addr.size() != 16 ||
        pdh_msg_lease(line.data(), line.size(), ev, addr.data(), mode, pds.data(), size_t(n),
                      duid.data(), duid.size(), lease->iaid_) < 0)
        return;
    int rc = pdh_notifier_send(&state->notifier, line.data(), now_s());
    static const char *const evname[] = {"add", "renew", "release", "expire"};
    if (rc != PDH_OK && rc != PDH_ENOENT) {
        LOG_WARN(pshim6_logger, "PSHIM6_NOTIFY_FAILED").arg(evname[ev]).arg(lease->addr_.toText())
            .arg(pdh_strerror(rc));
    }
}

int do_select(CalloutHandle &handle) {
    Lease6Ptr lease;
    bool fake = false;
    handle.getArgument("lease6", lease);
    handle.getArgument("fake_allocation", fake);
    if (!lease || lease->type_ != Lease::TYPE_NA || !lease->duid_)
        return 0;
    // Kea's candidate lies in the subnet's pool, so its /64 names the subnet.
    std::vector<uint8_t> cand = lease->addr_.toBytes();
    if (cand.size() != 16 || std::memcmp(cand.data(), state->conf.cmula_prefix, 8))
        return 0; // not the CMULA subnet: Kea's address stands

    // Kea offers a lease that is already in its database when it reuses an
    // expired one (a returning client's hint).  Kea then updates that row, so
    // the address must not change here: keep it, with its stored PDS.
    Lease6Ptr stored = LeaseMgrFactory::instance().getLease6(Lease::TYPE_NA, lease->addr_);
    if (stored) {
        ConstElementPtr old = lease_ctx(stored);
        if (old && !lease_ctx(lease))
            set_lease_ctx(lease, old->str().c_str());
        state->reused++;
        return 0;
    }

    const std::vector<uint8_t> &duid = lease->duid_->getDuid();
    uint8_t client[PDH_CLIENT_MAX];
    int clen = pdh_client_key(client, sizeof(client), duid.data(), duid.size(), lease->iaid_);
    if (clen < 0)
        return 0;
    uint64_t now = now_s();
    TakenArg targ{client, size_t(clen), now};

    pdh_pending_entry pend;
    pdh_pds pds;
    uint8_t addr[16];
    std::vector<uint8_t> pds_bytes;
    const char *how = "new";
    if (pdh_pending_get(&state->pending, client, size_t(clen), now, &pend) == PDH_OK &&
        is_taken(&targ, pend.addr) == 0 && pdh_pds_parse(&pds, pend.pds, pend.pds_len) == PDH_OK) {
        std::memcpy(addr, pend.addr, 16);
        pds_bytes.assign(pend.pds, pend.pds + pend.pds_len);
        state->reused++;
        how = "held since Solicit";
    } else {
        pdh_alloc_result r;
        int rc = pdh_alloc_ex(&state->conf, rand_fill, nullptr, is_taken, &targ,
                              state->use_pool ? &state->pool : nullptr, &r);
        if (rc < 0) {
            state->failures++;
            LOG_ERROR(pshim6_logger, "PSHIM6_ALLOC_FAILED").arg(hex(duid.data(), duid.size()))
                .arg(lease->iaid_).arg(pdh_strerror(rc));
            // No skip: with a /64 pool Kea would retry candidates almost
            // without bound.  Kea's own candidate is free (it checked), so
            // the client is served; the error log says it is not a CMULA.
            return 0;
        }
        state->allocated++;
        state->collisions += r.collisions;
        std::memcpy(addr, r.addr, 16);
        pds_bytes.resize(PDH_PDS_MAX);
        ssize_t n = pdh_pds_encode(pds_bytes.data(), pds_bytes.size(), &r.pds);
        if (n < 0)
            return 0;
        pds_bytes.resize(size_t(n));
        pds = r.pds;
        pdh_pending_put(&state->pending, client, size_t(clen), addr, pds_bytes.data(),
                        pds_bytes.size(), now);
        if (pdh_pds_parse(&pds, pds_bytes.data(), pds_bytes.size()) < 0)
            return 0;
    }
    char ctx[2 * PDH_PDS_MAX + 512];
    if (pdh_ctx_format(ctx, sizeof(ctx), &state->conf, &pds) < 0)
        return 0;
    lease->addr_ = IOAddress::fromBytes(AF_INET6, addr);
    set_lease_ctx(lease, ctx);
    LOG_DEBUG(pshim6_logger, isc::log::DBGLVL_TRACE_BASIC, "PSHIM6_ALLOCATED")
        .arg(lease->addr_.toText()).arg(hex(duid.data(), duid.size())).arg(lease->iaid_)
        .arg(std::string(how) + (fake ? ", Solicit" : ", Request"));
    return 0;
}

template <typename F> int guarded(const char *name, F f) {
    if (!state)
        return 0;
    try {
        return f();
    } catch (const std::exception &e) {
        LOG_ERROR(pshim6_logger, "PSHIM6_CALLOUT_ERROR").arg(name).arg(e.what());
    } catch (...) {
        LOG_ERROR(pshim6_logger, "PSHIM6_CALLOUT_ERROR").arg(name).arg("unknown exception");
    }
    return 0;
}

// Collects one parameter; false (with err) when present with the wrong type.
bool param_string(LibraryHandle &h, const char *name, std::string &out, bool &present, std::string &err) {
    ConstElementPtr p = h.getParameter(name);
    present = static_cast<bool>(p);
    if (!p)
        return true;
    if (p->getType() != Element::string) {
        err = std::string("parameter '") + name + "' must be a string";
        return false;
    }
    out = p->stringValue();
    return true;
}

bool param_int(LibraryHandle &h, const char *name, long long &out, std::string &err) {
    ConstElementPtr p = h.getParameter(name);
    if (!p)
        return true;
    if (p->getType() != Element::integer || p->intValue() < 0) {
        err = std::string("parameter '") + name + "' must be a non-negative integer";
        return false;
    }
    out = static_cast<long long>(p->intValue());
    return true;
}

int do_load(LibraryHandle &handle) {
    static const char *const known[] = {"public-key-file", "sec", "mode", "cmula-prefix",
                                        "pa-prefixes", "control-socket", "pending-ttl",
                                        "pending-max", "modifier-pool", nullptr};
    std::string err;
    for (const std::string &name : handle.getParameterNames()) {
        bool ok = false;
        for (int i = 0; known[i]; i++)
            ok |= name == known[i];
        if (!ok)
            err = "unknown parameter '" + name + "'";
    }
    pdh_params p;
    pdh_params_init(&p);
    std::string key, mode, cmula, sock;
    std::vector<std::string> pa;
    bool has_key = false, has_mode = false, has_cmula = false, has_sock = false;
    if (err.empty() && param_string(handle, "public-key-file", key, has_key, err) &&
        param_string(handle, "mode", mode, has_mode, err) &&
        param_string(handle, "cmula-prefix", cmula, has_cmula, err) &&
        param_string(handle, "control-socket", sock, has_sock, err) &&
        param_int(handle, "sec", p.sec, err) && param_int(handle, "pending-ttl", p.pending_ttl, err) &&
        param_int(handle, "pending-max", p.pending_max, err) &&
        param_int(handle, "modifier-pool", p.modifier_pool, err)) {
        ConstElementPtr l = handle.getParameter("pa-prefixes");
        if (l && l->getType() != Element::list) {
            err = "parameter 'pa-prefixes' must be a list of strings";
        } else if (l) {
            for (size_t i = 0; i < l->size(); i++) {
                ConstElementPtr e = l->get(static_cast<int>(i));
                pa.push_back(e->getType() == Element::string ? e->stringValue() : std::string());
                if (e->getType() != Element::string)
                    err = "parameter 'pa-prefixes'[" + std::to_string(i) + "] must be a string";
            }
        }
    }
    if (!err.empty()) {
        LOG_ERROR(pshim6_logger, "PSHIM6_LOAD_FAILED").arg(err);
        return 1;
    }
    p.public_key_file = has_key ? key.c_str() : nullptr;
    p.mode = has_mode ? mode.c_str() : nullptr;
    p.cmula_prefix = has_cmula ? cmula.c_str() : nullptr;
    p.control_socket = has_sock ? sock.c_str() : nullptr;
    p.n_pa_given = pa.size();
    for (size_t i = 0; i < pa.size() && i < PDH_MAX_PREFIXES; i++)
        p.pa_prefixes[i] = pa[i].c_str();

    HookState *s = new HookState();
    char msg[512];
    if (pdh_conf_load(&s->conf, &p, msg, sizeof(msg)) < 0) {
        LOG_ERROR(pshim6_logger, "PSHIM6_LOAD_FAILED").arg(msg);
        delete s;
        return 1;
    }
    if (pdh_pending_init(&s->pending, s->conf.pending_max, s->conf.pending_ttl) < 0) {
        LOG_ERROR(pshim6_logger, "PSHIM6_LOAD_FAILED").arg("cannot allocate the pending table");
        delete s;
        return 1;
    }
    pdh_notifier_init(&s->notifier, s->conf.control_socket, 200);
    if (s->conf.sec >= 1 && s->conf.modifier_pool > 0) {
        if (pdh_modpool_init(&s->pool, &s->conf, s->conf.modifier_pool, rand_fill, nullptr) < 0 ||
            pdh_modpool_start(&s->pool) < 0) {
            LOG_ERROR(pshim6_logger, "PSHIM6_LOAD_FAILED").arg("cannot start the modifier pool thread");
            pdh_modpool_free(&s->pool);
            pdh_notifier_close(&s->notifier);
            pdh_pending_free(&s->pending);
            delete s;
            return 1;
        }
        s->use_pool = true;
    }
    state = s;
    LOG_INFO(pshim6_logger, "PSHIM6_LOADED").arg(s->conf.mode == PDH_MODE_HBA ? "hba" : "cga")
        .arg(s->conf.sec).arg(cmula).arg(s->conf.n_pa)
        .arg(s->conf.control_socket[0] ? s->conf.control_socket : "(none)");
    return 0;
}

} // namespace

extern "C" {

int version() {
    return KEA_HOOKS_VERSION;
}

int load(LibraryHandle &handle) {
    try {
        return do_load(handle);
    } catch (const std::exception &e) {
        LOG_ERROR(pshim6_logger, "PSHIM6_LOAD_FAILED").arg(e.what());
    } catch (...) {
        LOG_ERROR(pshim6_logger, "PSHIM6_LOAD_FAILED").arg("unknown exception");
    }
    return 1;
}

int unload() {
    try {
        if (state) {
            LOG_INFO(pshim6_logger, "PSHIM6_UNLOADED")
                .arg("allocated " + std::to_string(state->allocated.load()) + ", reused " +
                     std::to_string(state->reused.load()) + ", collisions " +
                     std::to_string(state->collisions.load()) + ", failures " +
                     std::to_string(state->failures.load()) + ", pending evicted " +
                     std::to_string(state->pending.evicted) + ", notices sent " +
                     std::to_string(state->notifier.sent) + ", failed " +
                     std::to_string(state->notifier.failed) + ", pooled modifiers used " +
                     std::to_string(state->pool.taken) + ", pool empty " +
                     std::to_string(state->pool.empty));
            if (state->use_pool)
                pdh_modpool_free(&state->pool);
            pdh_notifier_close(&state->notifier);
            pdh_pending_free(&state->pending);
            delete state;
            state = nullptr;
        }
    } catch (...) {
    }
    return 0;
}

// Safe under Kea's multi-threaded packet processing: the configuration is
// read-only after load(); the pending table and the control connection have
// their own mutexes; counters are atomics; RAND_bytes and the EVP digests are
// thread-safe in OpenSSL 3; the lease manager is Kea's own MT-safe instance;
// Kea serialises packets of one client (same DUID) so one client's Solicit
// and Request never race.
int multi_threading_compatible() {
    return 1;
}

int lease6_select(CalloutHandle &handle) {
    return guarded("lease6_select", [&] { return do_select(handle); });
}

int leases6_committed(CalloutHandle &handle) {
    return guarded("leases6_committed", [&] {
        Lease6CollectionPtr leases, deleted;
        handle.getArgument("leases6", leases);
        handle.getArgument("deleted_leases6", deleted);
        for (const Lease6Ptr &l : leases ? *leases : Lease6Collection()) {
            if (!l || !lease_ctx(l))
                continue;
            std::vector<uint8_t> a = l->addr_.toBytes();
            bool fresh = a.size() == 16 && pdh_pending_drop_addr(&state->pending, a.data());
            notify(l, fresh ? PDH_EV_ADD : PDH_EV_RENEW);
        }
        for (const Lease6Ptr &l : deleted ? *deleted : Lease6Collection())
            if (l)
                notify(l, PDH_EV_RELEASE);
        return 0;
    });
}

int lease6_release(CalloutHandle &handle) {
    return guarded("lease6_release", [&] {
        Lease6Ptr l;
        handle.getArgument("lease6", l);
        if (l)
            notify(l, PDH_EV_RELEASE);
        return 0;
    });
}

int lease6_expire(CalloutHandle &handle) {
    return guarded("lease6_expire", [&] {
        Lease6Ptr l;
        handle.getArgument("lease6", l);
        if (l)
            notify(l, PDH_EV_EXPIRE);
        return 0;
    });
}

} // extern "C"
