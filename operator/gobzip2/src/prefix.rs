//! Port of the parts of dsnet/compress `internal/prefix` that the bzip2
//! writer uses: Huffman code-length generation (`GenerateLengths`) and
//! canonical prefix assignment (`GeneratePrefixes`).

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PrefixCode {
    pub sym: u32,
    pub cnt: u32,
    pub len: u32,
    /// Canonical code value, *not* bit-reversed (written MSB first).
    pub val: u32,
}

const VALUE_BITS: usize = 27;

/// `PrefixCodes.SortByCount`: ascending count, ties by ascending symbol
/// (a total order, so Go's unstable `sort.Sort` is deterministic here).
pub(crate) fn sort_by_count(codes: &mut [PrefixCode]) {
    codes.sort_unstable_by(|a, b| a.cnt.cmp(&b.cnt).then(a.sym.cmp(&b.sym)));
}

/// `PrefixCodes.SortBySymbol`.
pub(crate) fn sort_by_symbol(codes: &mut [PrefixCode]) {
    codes.sort_unstable_by_key(|c| c.sym);
}

#[derive(Clone, Copy, Default)]
struct Node {
    cnt: u32,
    // Child: either an internal node index or a leaf (index into codes).
    n0: usize,
    n1: usize,
    c0: Option<usize>,
    c1: Option<usize>,
}

/// `prefix.GenerateLengths`. `codes` must be sorted by count.
pub(crate) fn generate_lengths(codes: &mut [PrefixCode], max_bits: u32) {
    if codes.len() <= 1 {
        if codes.len() == 1 {
            codes[0].len = 0;
        }
        return;
    }
    debug_assert!(codes.windows(2).all(|w| w[0].cnt <= w[1].cnt));

    // Two-queue Huffman construction; ties prefer the leaf queue (`<=`).
    let mut nodes: Vec<Node> = Vec::with_capacity(codes.len());
    let mut f = 0usize; // front of freqs
    let mut q = 0usize; // front of queue (index into nodes)
    let nf = codes.len();
    while (nf - f) + (nodes.len() - q) > 1 {
        let mut n = Node::default();
        if nodes.len() == q || (f < nf && codes[f].cnt <= nodes[q].cnt) {
            n.c0 = Some(f);
            n.cnt = n.cnt.wrapping_add(codes[f].cnt);
            f += 1;
        } else {
            n.cnt = n.cnt.wrapping_add(nodes[q].cnt);
            n.n0 = q;
            q += 1;
        }
        if nodes.len() == q || (f < nf && codes[f].cnt <= nodes[q].cnt) {
            n.c1 = Some(f);
            n.cnt = n.cnt.wrapping_add(codes[f].cnt);
            f += 1;
        } else {
            n.cnt = n.cnt.wrapping_add(nodes[q].cnt);
            n.n1 = q;
            q += 1;
        }
        nodes.push(n);
    }
    let root = q;

    // Depth-first walk assigning depths (iterative to avoid deep recursion).
    let mut fix_bits = false;
    let mut stack: Vec<(usize, u32)> = vec![(root, 1)];
    while let Some((idx, level)) = stack.pop() {
        let nd = nodes[idx];
        // Order of visiting does not matter for the resulting lengths.
        match nd.c0 {
            None => stack.push((nd.n0, level + 1)),
            Some(c) => {
                fix_bits |= level > max_bits;
                codes[c].len = level;
            }
        }
        match nd.c1 {
            None => stack.push((nd.n1, level + 1)),
            Some(c) => {
                fix_bits |= level > max_bits;
                codes[c].len = level;
            }
        }
    }

    if fix_bits {
        let mut sym_bits: Vec<u32> = vec![0; VALUE_BITS + 1];
        for c in codes.iter() {
            while c.len as usize >= sym_bits.len() {
                sym_bits.push(0);
            }
            sym_bits[c.len as usize] += 1;
        }
        fn tree_rotate(sym_bits: &mut [u32], nb: usize) {
            if sym_bits[nb - 1] == 0 {
                tree_rotate(sym_bits, nb - 1);
            }
            sym_bits[nb - 1] = sym_bits[nb - 1].wrapping_sub(1);
            sym_bits[nb] = sym_bits[nb].wrapping_add(3);
            sym_bits[nb + 1] = sym_bits[nb + 1].wrapping_sub(2);
        }
        let mut i = sym_bits.len() - 1;
        while i > max_bits as usize {
            while sym_bits[i] > 0 {
                tree_rotate(&mut sym_bits, i - 1);
            }
            i -= 1;
        }
        let mut end = codes.len();
        for (nb, &cnt) in sym_bits.iter().enumerate() {
            if cnt > 0 {
                let pos = end - cnt as usize;
                for c in &mut codes[pos..end] {
                    c.len = nb as u32;
                }
                end = pos;
            }
        }
        assert!(end == 0, "not all codes were used up");
    }
}

/// `prefix.GeneratePrefixes` (canonical codes). `codes` must be sorted by
/// symbol and form a complete tree. Values are stored unreversed.
pub(crate) fn generate_prefixes(codes: &mut [PrefixCode]) {
    if codes.len() <= 1 {
        if codes.len() == 1 {
            assert!(codes[0].len == 0, "degenerate prefix tree with one node");
            codes[0].val = 0;
        }
        return;
    }
    let mut bit_cnts = [0u32; VALUE_BITS + 1];
    let mut min_bits = codes[0].len;
    let mut max_bits = codes[0].len;
    for c in codes.iter() {
        min_bits = min_bits.min(c.len);
        max_bits = max_bits.max(c.len);
        bit_cnts[c.len as usize] += 1;
    }
    assert!(min_bits != 0, "invalid prefix bit-length");
    let mut next_codes = [0u32; VALUE_BITS + 1];
    let mut code: u64 = 0;
    for i in min_bits..=max_bits {
        code <<= 1;
        next_codes[i as usize] = code as u32;
        code += bit_cnts[i as usize] as u64;
    }
    assert!(code == 1u64 << max_bits, "degenerate prefix tree");
    for c in codes.iter_mut() {
        c.val = next_codes[c.len as usize];
        next_codes[c.len as usize] += 1;
    }
}
