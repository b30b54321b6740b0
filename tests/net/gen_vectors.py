#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
#
# Writes tests/net/vectors.h: reference frames made by scapy, which computes
# every length and checksum itself, so the tests check lib/net against an
# independent implementation. The header is committed; the tests do not need
# scapy. To regenerate (Debian: apt-get install python3-scapy):
#
#   /usr/bin/python3 tests/net/gen_vectors.py > tests/net/vectors.h
#   clang-format -i tests/net/vectors.h
#
# Addresses are from the benchmarking ranges (../shared/NETWORK.md):
# we are 198.18.0.1 / 2001:2::1 at 02:00:00:00:00:01, the peer is
# 198.18.0.2 / 2001:2::2 at 02:00:00:00:00:02.
import scapy
from scapy.all import (ARP, Dot1Q, Ether, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptSrcLLAddr, IP, IPOption_Router_Alert, IPv6, Raw, TCP)

US, PEER = "02:00:00:00:00:01", "02:00:00:00:00:02"
US4, PEER4 = "198.18.0.1", "198.18.0.2"
US6, PEER6 = "2001:2::1", "2001:2::2"
PAYLOAD = b"hello, teardown!\n"  # 17 bytes: an odd length for the checksum
# Linux's SYN option layout: mss; sackOK, TS; nop, wscale.
SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None),
            ("WScale", 7)]
TS_OPTS = [("NOP", None), ("NOP", None), ("Timestamp", (2000, 1000))]

vectors = [
    # Received by us.
    ("v4_syn_in", "a SYN from the peer, Linux's options",
     Ether(dst=US, src=PEER) / IP(src=PEER4, dst=US4, id=0x1c46, flags="DF", ttl=64) /
     TCP(sport=40000, dport=80, seq=0x12345678, flags="S", window=64240, options=SYN_OPTS)),
    ("v4_ipopt_data_in", "IPv4 with a Router Alert option, data with timestamps",
     Ether(dst=US, src=PEER) /
     IP(src=PEER4, dst=US4, id=7, flags="DF", ttl=63, options=[IPOption_Router_Alert()]) /
     TCP(sport=40000, dport=80, seq=0x12345679, ack=0xabcdef01, flags="PA", window=502,
         options=TS_OPTS) / Raw(PAYLOAD)),
    ("v6_data_in", "IPv6 data with timestamps",
     Ether(dst=US, src=PEER) / IPv6(src=PEER6, dst=US6, hlim=64) /
     TCP(sport=40000, dport=80, seq=0x12345679, ack=0xabcdef01, flags="PA", window=502,
         options=TS_OPTS) / Raw(PAYLOAD)),
    ("arp_req_in", "the peer asks who has 198.18.0.1",
     Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER) /
     ARP(op=1, hwsrc=PEER, psrc=PEER4, hwdst="00:00:00:00:00:00", pdst=US4)),
    ("ns_in", "the peer solicits 2001:2::1",
     Ether(dst="33:33:ff:00:00:01", src=PEER) / IPv6(src=PEER6, dst="ff02::1:ff00:1", hlim=255) /
     ICMPv6ND_NS(tgt=US6) / ICMPv6NDOptSrcLLAddr(lladdr=PEER)),
    ("ns_dad_in", "duplicate address detection of 2001:2::1",
     Ether(dst="33:33:ff:00:00:01", src=PEER) / IPv6(src="::", dst="ff02::1:ff00:1", hlim=255) /
     ICMPv6ND_NS(tgt=US6)),
    ("na_in", "the peer advertises 2001:2::2 to us",
     Ether(dst=US, src=PEER) / IPv6(src=PEER6, dst=US6, hlim=255) /
     ICMPv6ND_NA(tgt=PEER6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=PEER)),
    # What our builders must write, byte for byte.
    ("v4_synack_out", "our SYN-ACK: DF, id 0, TTL 64, Linux's options",
     Ether(dst=PEER, src=US) / IP(src=US4, dst=PEER4, id=0, flags="DF", ttl=64) /
     TCP(sport=80, dport=40000, seq=0x0badf00d, ack=0x12345679, flags="SA", window=65535,
         options=SYN_OPTS)),
    ("v4_pad_out", "7 bytes of options, padded to 8",
     Ether(dst=PEER, src=US) / IP(src=US4, dst=PEER4, id=0, flags="DF", ttl=64) /
     TCP(sport=80, dport=40000, seq=1, ack=2, flags="S", window=1024,
         options=[("MSS", 1460), ("WScale", 7)])),
    ("v6_data_out", "our IPv6 data, hop limit 64, flow label 0",
     Ether(dst=PEER, src=US) / IPv6(src=US6, dst=PEER6, hlim=64) /
     TCP(sport=80, dport=40000, seq=0xabcdef01, ack=0x1234568a, flags="PA", window=502,
         options=TS_OPTS) / Raw(PAYLOAD)),
    ("v4_vlan_fin_out", "our FIN on VLAN 100, no options",
     Ether(dst=PEER, src=US) / Dot1Q(vlan=100, prio=0) /
     IP(src=US4, dst=PEER4, id=0, flags="DF", ttl=64) /
     TCP(sport=80, dport=40000, seq=0xfffffff0, ack=0x80000000, flags="FA", window=4096)),
    ("arp_reply_out", "our answer to arp_req_in",
     Ether(dst=PEER, src=US) / ARP(op=2, hwsrc=US, psrc=US4, hwdst=PEER, pdst=PEER4)),
    ("arp_req_out", "our request for 198.18.0.2",
     Ether(dst="ff:ff:ff:ff:ff:ff", src=US) /
     ARP(op=1, hwsrc=US, psrc=US4, hwdst="00:00:00:00:00:00", pdst=PEER4)),
    ("na_out", "our answer to ns_in",
     Ether(dst=PEER, src=US) / IPv6(src=US6, dst=PEER6, hlim=255) /
     ICMPv6ND_NA(tgt=US6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=US)),
    ("na_dad_out", "our answer to ns_dad_in: to all nodes, not solicited",
     Ether(dst="33:33:00:00:00:01", src=US) / IPv6(src=US6, dst="ff02::1", hlim=255) /
     ICMPv6ND_NA(tgt=US6, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=US)),
    ("ns_out", "our solicitation for 2001:2::2",
     Ether(dst="33:33:ff:00:00:02", src=US) / IPv6(src=US6, dst="ff02::1:ff00:2", hlim=255) /
     ICMPv6ND_NS(tgt=PEER6) / ICMPv6NDOptSrcLLAddr(lladdr=US)),
]

print("/* SPDX-License-Identifier: BSD-3-Clause */")
print("/* Generated by tests/net/gen_vectors.py with scapy %s, then clang-format: do not edit. */"
      % scapy.__version__)
print("#ifndef TD_NET_VECTORS_H\n#define TD_NET_VECTORS_H\n\n#include <stdint.h>\n")
for name, what, pkt in vectors:
    raw = bytes(pkt)
    print("/* %s (%d bytes): %s.\n * scapy: %s */" % (name, len(raw), what, pkt.summary()))
    print("static const uint8_t %s[] = {" % name)
    for i in range(0, len(raw), 15):
        print("\t" + ", ".join("0x%02x" % b for b in raw[i:i + 15]) + ",")
    print("};\n")
print("#endif /* TD_NET_VECTORS_H */")
