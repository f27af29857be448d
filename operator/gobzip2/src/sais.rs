//! Suffix array construction by induced sorting (SA-IS, Nong/Zhang/Chan).
//!
//! Any correct suffix array gives the same result, so this is an independent
//! implementation (structured after the well-known AtCoder Library variant)
//! rather than a line-by-line port of dsnet's `bzip2/internal/sais`.
//! Ordering is the standard one: a suffix that is a proper prefix of another
//! suffix sorts first (i.e. an implicit sentinel smaller than every symbol).

/// Computes the suffix array of `s` (symbols in `0..=upper`).
pub(crate) fn suffix_array_u8(s: &[u8]) -> Vec<u32> {
    let s32: Vec<u32> = s.iter().map(|&b| b as u32).collect();
    sa_is(&s32, 255)
}

fn sa_is(s: &[u32], upper: u32) -> Vec<u32> {
    let n = s.len();
    match n {
        0 => return Vec::new(),
        1 => return vec![0],
        2 => return if s[0] < s[1] { vec![0, 1] } else { vec![1, 0] },
        _ => {}
    }
    if n < 10 {
        return sa_naive(s);
    }
    let upper = upper as usize;

    // ls[i] == true  <=> suffix i is S-type.
    let mut ls = vec![false; n];
    for i in (0..n - 1).rev() {
        ls[i] = if s[i] == s[i + 1] {
            ls[i + 1]
        } else {
            s[i] < s[i + 1]
        };
    }
    let mut sum_l = vec![0u32; upper + 2];
    let mut sum_s = vec![0u32; upper + 2];
    for i in 0..n {
        if !ls[i] {
            sum_s[s[i] as usize] += 1;
        } else {
            sum_l[s[i] as usize + 1] += 1;
        }
    }
    for i in 0..=upper {
        sum_s[i] += sum_l[i];
        if i < upper {
            sum_l[i + 1] += sum_s[i];
        }
    }

    // In `sa` during induction, values are suffix index + 1 (0 = empty).
    let induce = |sa: &mut [u32], lms: &[u32]| {
        sa.iter_mut().for_each(|x| *x = 0);
        let mut buf = sum_s.clone();
        for &d in lms {
            let d = d as usize;
            if d == n {
                continue;
            }
            let c = s[d] as usize;
            let old = buf[c];
            buf[c] += 1;
            sa[old as usize] = d as u32 + 1;
        }
        buf.copy_from_slice(&sum_l);
        let c = s[n - 1] as usize;
        let old = buf[c];
        buf[c] += 1;
        sa[old as usize] = n as u32;
        for i in 0..n {
            let v = sa[i] as usize;
            if v >= 2 && !ls[v - 2] {
                let c = s[v - 2] as usize;
                let old = buf[c];
                buf[c] += 1;
                sa[old as usize] = (v - 1) as u32;
            }
        }
        buf.copy_from_slice(&sum_l);
        for i in (0..n).rev() {
            let v = sa[i] as usize;
            if v >= 2 && ls[v - 2] {
                let c = s[v - 2] as usize + 1;
                buf[c] -= 1;
                sa[buf[c] as usize] = (v - 1) as u32;
            }
        }
    };

    let mut lms_map = vec![0u32; n + 1];
    let mut lms: Vec<u32> = Vec::new();
    for i in 1..n {
        if !ls[i - 1] && ls[i] {
            lms.push(i as u32);
            lms_map[i] = lms.len() as u32; // 1-based
        }
    }
    let m = lms.len();
    let mut sa = vec![0u32; n];
    induce(&mut sa, &lms);

    if m > 0 {
        let mut sorted_lms: Vec<u32> = Vec::with_capacity(m);
        for &v in &sa {
            let v = v as usize;
            if lms_map[v - 1] != 0 {
                sorted_lms.push((v - 1) as u32);
            }
        }
        let mut rec_s = vec![0u32; m];
        let mut rec_upper = 0u32;
        rec_s[lms_map[sorted_lms[0] as usize] as usize - 1] = 0;
        for i in 1..m {
            let mut l = sorted_lms[i - 1] as usize;
            let mut r = sorted_lms[i] as usize;
            let end_l = if (lms_map[l] as usize) < m {
                lms[lms_map[l] as usize] as usize
            } else {
                n
            };
            let end_r = if (lms_map[r] as usize) < m {
                lms[lms_map[r] as usize] as usize
            } else {
                n
            };
            let same = if end_l - l != end_r - r {
                false
            } else {
                while l < end_l {
                    if s[l] != s[r] {
                        break;
                    }
                    l += 1;
                    r += 1;
                }
                !(l == n || s[l] != s[r])
            };
            if !same {
                rec_upper += 1;
            }
            rec_s[lms_map[sorted_lms[i] as usize] as usize - 1] = rec_upper;
        }
        let rec_sa = sa_is(&rec_s, rec_upper);
        for i in 0..m {
            sorted_lms[i] = lms[rec_sa[i] as usize];
        }
        induce(&mut sa, &sorted_lms);
    }
    for x in sa.iter_mut() {
        *x -= 1;
    }
    sa
}

fn sa_naive(s: &[u32]) -> Vec<u32> {
    let mut sa: Vec<u32> = (0..s.len() as u32).collect();
    sa.sort_by(|&a, &b| s[a as usize..].cmp(&s[b as usize..]));
    sa
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &[u8]) {
        let got = suffix_array_u8(s);
        let mut want: Vec<u32> = (0..s.len() as u32).collect();
        want.sort_by(|&a, &b| s[a as usize..].cmp(&s[b as usize..]));
        assert_eq!(got, want, "input {:?}", s);
    }

    #[test]
    fn random_small() {
        let mut x: u64 = 0x1234_5678_9abc_def0;
        for len in 0..200 {
            for alpha in [1u64, 2, 3, 4, 256] {
                let mut v = Vec::new();
                for _ in 0..len {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    v.push((x % alpha) as u8);
                }
                check(&v);
                let mut d = v.clone();
                d.extend_from_slice(&v);
                check(&d);
            }
        }
    }
}
