//! IP network functions (go-cty-funcs' cidr package over apparentlymart/go-cidr), for IPv4
//! and IPv6.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Args, FuncError, WHOLE_NUMBER, arg_err, other, to_int};
use crate::value::Value;

/// A parsed CIDR prefix, address already masked as Go's `net.ParseCIDR` returns it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Net {
    addr: u128,
    /// Address width: 32 or 128.
    bits: u32,
    prefix: u32,
}

fn mask(prefix: u32, bits: u32) -> u128 {
    let all = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    match all.checked_shr(prefix) {
        _ if prefix == 0 => 0,
        Some(rest) if prefix < bits => all & !rest,
        _ => all,
    }
}

fn wrap(bits: u32) -> u128 {
    if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn parse_cidr(s: &str) -> Result<Net, String> {
    let bad = || format!("invalid CIDR expression: invalid CIDR address: {s}");
    let (ip, len) = s.split_once('/').ok_or_else(bad)?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let prefix: u32 = len.parse().map_err(|_| bad())?;
    let (addr, bits) = if let Ok(v4) = ip.parse::<Ipv4Addr>() {
        (u128::from(u32::from(v4)), 32)
    } else if let Ok(v6) = ip.parse::<Ipv6Addr>() {
        (u128::from(v6), 128)
    } else {
        return Err(bad());
    };
    if prefix > bits {
        return Err(bad());
    }
    Ok(Net {
        addr: addr & mask(prefix, bits),
        bits,
        prefix,
    })
}

/// Go's `net.IP.String`.
fn fmt_ip(addr: u128, bits: u32) -> String {
    if bits == 32 {
        return Ipv4Addr::from(addr as u32).to_string();
    }
    let v6 = Ipv6Addr::from(addr);
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

fn fmt_net(n: &Net) -> String {
    format!("{}/{}", fmt_ip(n.addr, n.bits), n.prefix)
}

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    match f.name {
        "cidrhost" => {
            f.exact(&["prefix", "hostnum"])?;
            // cty converts every argument to its parameter's type before the function runs.
            let prefix = f.string(0, "prefix")?;
            let n = f.number(1, "hostnum")?;
            let net = parse_cidr(&prefix).map_err(other)?;
            if n.fract() != 0.0 || !n.is_finite() {
                return Err(arg_err(1, "hostnum", WHOLE_NUMBER));
            }
            let host_len = net.bits - net.prefix;
            let max: u128 = if host_len == 128 {
                u128::MAX
            } else {
                (1u128 << host_len) - 1
            };
            let too_big = |shown: String| {
                other(format!(
                    "prefix of {} does not accommodate a host numbered {shown}",
                    net.prefix
                ))
            };
            if n.abs() >= 1.7e38 {
                return Err(too_big(crate::value::format_number(&n.into())));
            }
            let num = n as i128;
            let host = if num < 0 {
                let back = (-(num + 1)) as u128;
                if back > max {
                    return Err(too_big(
                        (max as i128).wrapping_sub(back as i128).to_string(),
                    ));
                }
                max - back
            } else {
                let u = num as u128;
                if u > max {
                    return Err(too_big(num.to_string()));
                }
                u
            };
            let ip = net.addr.wrapping_add(host) & wrap(net.bits);
            Ok(Value::String(fmt_ip(ip, net.bits)))
        }
        "cidrnetmask" => {
            f.exact(&["prefix"])?;
            let net = parse_cidr(&f.string(0, "prefix")?).map_err(other)?;
            Ok(Value::String(fmt_ip(mask(net.prefix, net.bits), net.bits)))
        }
        "cidrsubnet" => {
            f.exact(&["prefix", "newbits", "netnum"])?;
            let prefix = f.string(0, "prefix")?;
            let newbits = f.int(1, "newbits")?;
            let netnum = f.int(2, "netnum")?;
            let net = parse_cidr(&prefix).map_err(other)?;
            if newbits > 32 {
                return Err(other("may not extend prefix by more than 32 bits"));
            }
            if newbits < 0 {
                return Err(arg_err(1, "newbits", "must not be negative"));
            }
            let newbits = newbits as u32;
            let new_len = net.prefix + newbits;
            if new_len > net.bits {
                return Err(other(format!(
                    "insufficient address space to extend prefix of {} by {newbits}",
                    net.prefix
                )));
            }
            let max_num: u128 = (1u128 << newbits) - 1;
            if netnum < 0 || netnum as u128 > max_num {
                return Err(other(format!(
                    "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
                )));
            }
            let shift = net.bits - new_len;
            let addr = net.addr | (netnum as u128).checked_shl(shift).unwrap_or(0);
            Ok(Value::String(fmt_net(&Net {
                addr: addr & wrap(net.bits),
                bits: net.bits,
                prefix: new_len,
            })))
        }
        "cidrsubnets" => cidrsubnets(f),
        _ => Err(other(format!("There is no function named \"{}\".", f.name))),
    }
}

/// The last address of a network.
fn last(n: &Net) -> u128 {
    n.addr | (wrap(n.bits) & !mask(n.prefix, n.bits))
}

/// go-cidr's `NextSubnet`: the subnet of length `prefix` after `cur`, and whether the
/// address space rolled over.
fn next_subnet(cur: &Net, prefix: u32) -> (Net, bool) {
    let m = mask(prefix, cur.bits);
    let cur_sub = Net {
        addr: last(cur) & m,
        bits: cur.bits,
        prefix,
    };
    let after = last(&cur_sub).wrapping_add(1) & wrap(cur.bits);
    let next = Net {
        addr: after & m,
        bits: cur.bits,
        prefix,
    };
    (next, after == 0)
}

fn cidrsubnets(f: &Args) -> Result<Value, FuncError> {
    f.at_least(1, "prefix")?;
    let net = parse_cidr(&f.string(0, "prefix")?).map_err(|m| arg_err(0, "prefix", m))?;
    if f.len() == 1 {
        return Ok(Value::List(vec![]));
    }
    let first =
        to_int(f.number(1, "newbits")?).ok_or_else(|| arg_err(1, "newbits", WHOLE_NUMBER))?;
    let first_len = (i64::from(net.prefix) + first).clamp(0, i64::from(net.bits)) as u32;
    // go-cidr's PreviousSubnet: the subnet of that size just before the base address.
    let m = mask(first_len, net.bits);
    let mut current = Net {
        addr: net.addr.wrapping_sub(1) & wrap(net.bits) & m,
        bits: net.bits,
        prefix: first_len,
    };
    let mut out = Vec::with_capacity(f.len() - 1);
    for i in 1..f.len() {
        let length =
            to_int(f.number(i, "newbits")?).ok_or_else(|| arg_err(i, "newbits", WHOLE_NUMBER))?;
        if length < 1 {
            return Err(arg_err(
                i,
                "newbits",
                "must extend prefix by at least one bit",
            ));
        }
        if length > 32 {
            return Err(arg_err(
                i,
                "newbits",
                "may not extend prefix by more than 32 bits",
            ));
        }
        let length = length as u32 + net.prefix;
        if length > net.bits {
            let proto = if net.bits == 32 { "IPv4" } else { "IPv6" };
            return Err(arg_err(
                i,
                "newbits",
                format!(
                    "would extend prefix to {length} bits, which is too long for an {proto} address"
                ),
            ));
        }
        let (next, rollover) = next_subnet(&current, length);
        let contained = next.addr & mask(net.prefix, net.bits) == net.addr;
        if rollover || !contained {
            return Err(arg_err(
                i,
                "newbits",
                format!(
                    "not enough remaining address space for a subnet with a prefix of {length} bits after {}",
                    fmt_net(&current)
                ),
            ));
        }
        current = next;
        out.push(Value::String(fmt_net(&current)));
    }
    Ok(Value::List(out))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[test]
    fn cidrhost() {
        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(16.0)]),
            s("10.12.112.16")
        );
        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(268.0)]),
            s("10.12.113.12")
        );
        assert_eq!(
            ok(
                "cidrhost",
                vec![s("fd00:fd12:3456:7890:00a2::/72"), n(34.0)]
            ),
            s("fd00:fd12:3456:7890::22")
        );
        assert_eq!(
            ok("cidrhost", vec![s("10.0.0.0/8"), n(-1.0)]),
            s("10.255.255.255")
        );
        assert_eq!(
            ok("cidrhost", vec![s("192.168.1.5/24"), n(1.0)]),
            s("192.168.1.1")
        );
        assert_eq!(
            ok("cidrhost", vec![s("0.0.0.0/0"), n(-1.0)]),
            s("255.255.255.255")
        );
        assert_eq!(ok("cidrhost", vec![s("::/0"), n(1.0)]), s("::1"));
        assert_eq!(
            err("cidrhost", vec![s("192.168.1.0/24"), n(256.0)]),
            "prefix of 24 does not accommodate a host numbered 256"
        );
        assert_eq!(
            err("cidrhost", vec![s("192.168.1.0/30"), n(-5.0)]),
            "prefix of 30 does not accommodate a host numbered -1"
        );
        assert_eq!(
            err("cidrhost", vec![s("not-a-cidr"), n(1.0)]),
            "invalid CIDR expression: invalid CIDR address: not-a-cidr"
        );
        assert!(err("cidrhost", vec![s("10.0.0.0/33"), n(1.0)]).starts_with("invalid CIDR"));
        assert!(err("cidrhost", vec![s("010.0.0.0/8"), n(1.0)]).starts_with("invalid CIDR"));
    }

    #[test]
    fn cidrnetmask() {
        assert_eq!(
            ok("cidrnetmask", vec![s("172.16.0.0/12")]),
            s("255.240.0.0")
        );
        assert_eq!(ok("cidrnetmask", vec![s("10.0.0.0/0")]), s("0.0.0.0"));
        assert_eq!(
            ok("cidrnetmask", vec![s("10.0.0.0/32")]),
            s("255.255.255.255")
        );
        assert_eq!(
            ok("cidrnetmask", vec![s("fd00::/64")]),
            s("ffff:ffff:ffff:ffff::")
        );
    }

    #[test]
    fn cidrsubnet() {
        assert_eq!(
            ok("cidrsubnet", vec![s("172.16.0.0/12"), n(4.0), n(2.0)]),
            s("172.18.0.0/16")
        );
        assert_eq!(
            ok("cidrsubnet", vec![s("10.1.2.0/24"), n(4.0), n(15.0)]),
            s("10.1.2.240/28")
        );
        assert_eq!(
            ok(
                "cidrsubnet",
                vec![s("fd00:fd12:3456:7890::/56"), n(16.0), n(162.0)]
            ),
            s("fd00:fd12:3456:7800:a200::/72")
        );
        assert_eq!(
            ok("cidrsubnet", vec![s("10.0.0.0/8"), n(0.0), n(0.0)]),
            s("10.0.0.0/8")
        );
        assert_eq!(
            err("cidrsubnet", vec![s("10.0.0.0/30"), n(3.0), n(0.0)]),
            "insufficient address space to extend prefix of 30 by 3"
        );
        assert_eq!(
            err("cidrsubnet", vec![s("10.0.0.0/8"), n(2.0), n(4.0)]),
            "prefix extension of 2 does not accommodate a subnet numbered 4"
        );
        assert_eq!(
            err("cidrsubnet", vec![s("fd00::/8"), n(33.0), n(1.0)]),
            "may not extend prefix by more than 32 bits"
        );
    }

    #[test]
    fn cidrsubnets() {
        assert_eq!(
            ok(
                "cidrsubnets",
                vec![s("10.1.0.0/16"), n(4.0), n(4.0), n(8.0), n(4.0)]
            ),
            sl(&[
                "10.1.0.0/20",
                "10.1.16.0/20",
                "10.1.32.0/24",
                "10.1.48.0/20"
            ])
        );
        assert_eq!(
            ok(
                "cidrsubnets",
                vec![
                    s("fd00:fd12:3456:7890::/56"),
                    n(16.0),
                    n(16.0),
                    n(16.0),
                    n(32.0)
                ]
            ),
            sl(&[
                "fd00:fd12:3456:7800::/72",
                "fd00:fd12:3456:7800:100::/72",
                "fd00:fd12:3456:7800:200::/72",
                "fd00:fd12:3456:7800:300::/88"
            ])
        );
        assert_eq!(ok("cidrsubnets", vec![s("10.0.0.0/8")]), l(vec![]));
        assert_eq!(
            ok("cidrsubnets", vec![s("10.0.0.0/8"), n(1.0), n(1.0)]),
            sl(&["10.0.0.0/9", "10.128.0.0/9"])
        );
        assert_eq!(
            err("cidrsubnets", vec![s("10.0.0.0/8"), n(1.0), n(1.0), n(1.0)]),
            "not enough remaining address space for a subnet with a prefix of 9 bits after 10.128.0.0/9"
        );
        assert_eq!(
            err("cidrsubnets", vec![s("10.0.0.0/30"), n(3.0)]),
            "would extend prefix to 33 bits, which is too long for an IPv4 address"
        );
        assert_eq!(
            err("cidrsubnets", vec![s("10.0.0.0/8"), n(0.0)]),
            "must extend prefix by at least one bit"
        );
        assert_eq!(
            err("cidrsubnets", vec![s("fd00::/8"), n(33.0)]),
            "may not extend prefix by more than 32 bits"
        );
    }
}
