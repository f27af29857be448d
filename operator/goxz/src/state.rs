//! The LZMA coder state: ports `lzma/state.go` and `lzma/properties.go`.

use crate::codecs::{DistCodec, LengthCodec, LiteralCodec, MAX_POS_BITS};
use crate::rangecoder::{PROB_INIT, Prob};

/// `states`
const STATES: usize = 12;

/// `Properties`: the LZMA parameters lc, lp and pb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Properties {
    pub(crate) lc: u32,
    pub(crate) lp: u32,
    pub(crate) pb: u32,
}

impl Properties {
    /// The default `Properties{LC: 3, LP: 0, PB: 2}` of `Writer2Config.fill`.
    pub(crate) const DEFAULT: Properties = Properties {
        lc: 3,
        lp: 0,
        pb: 2,
    };

    /// `Properties.Code`
    pub(crate) fn code(self) -> u8 {
        ((self.pb * 5 + self.lp) * 9 + self.lc) as u8
    }
}

/// `state`
#[derive(Clone)]
pub(crate) struct State {
    pub(crate) rep: [u32; 4],
    pub(crate) is_match: [Prob; STATES << MAX_POS_BITS],
    pub(crate) is_rep_g0_long: [Prob; STATES << MAX_POS_BITS],
    pub(crate) is_rep: [Prob; STATES],
    pub(crate) is_rep_g0: [Prob; STATES],
    pub(crate) is_rep_g1: [Prob; STATES],
    pub(crate) is_rep_g2: [Prob; STATES],
    pub(crate) lit_codec: LiteralCodec,
    pub(crate) len_codec: LengthCodec,
    pub(crate) rep_len_codec: LengthCodec,
    pub(crate) dist_codec: DistCodec,
    pub(crate) state: u32,
    pub(crate) pos_bit_mask: u32,
    pub(crate) props: Properties,
}

impl State {
    /// `newState` (and `state.Reset`).
    pub(crate) fn new(props: Properties) -> Self {
        State {
            rep: [0; 4],
            is_match: [PROB_INIT; STATES << MAX_POS_BITS],
            is_rep_g0_long: [PROB_INIT; STATES << MAX_POS_BITS],
            is_rep: [PROB_INIT; STATES],
            is_rep_g0: [PROB_INIT; STATES],
            is_rep_g1: [PROB_INIT; STATES],
            is_rep_g2: [PROB_INIT; STATES],
            lit_codec: LiteralCodec::new(props.lc, props.lp),
            len_codec: LengthCodec::new(),
            rep_len_codec: LengthCodec::new(),
            dist_codec: DistCodec::new(),
            state: 0,
            pos_bit_mask: (1u32 << props.pb) - 1,
            props,
        }
    }

    /// `state.updateStateLiteral`
    #[inline]
    pub(crate) fn update_state_literal(&mut self) {
        self.state = if self.state < 4 {
            0
        } else if self.state < 10 {
            self.state - 3
        } else {
            self.state - 6
        };
    }

    /// `state.updateStateMatch`
    #[inline]
    pub(crate) fn update_state_match(&mut self) {
        self.state = if self.state < 7 { 7 } else { 10 };
    }

    /// `state.updateStateRep`
    #[inline]
    pub(crate) fn update_state_rep(&mut self) {
        self.state = if self.state < 7 { 8 } else { 11 };
    }

    /// `state.updateStateShortRep`
    #[inline]
    pub(crate) fn update_state_short_rep(&mut self) {
        self.state = if self.state < 7 { 9 } else { 11 };
    }

    /// `state.states`: (state1, state2, posState) for the dictionary head.
    #[inline]
    pub(crate) fn states(&self, dict_head: i64) -> (u32, u32, u32) {
        let state1 = self.state;
        let pos_state = (dict_head as u32) & self.pos_bit_mask;
        let state2 = (self.state << MAX_POS_BITS) | pos_state;
        (state1, state2, pos_state)
    }

    /// `state.litState`
    #[inline]
    pub(crate) fn lit_state(&self, prev: u8, dict_head: i64) -> u32 {
        let (lp, lc) = (self.props.lp, self.props.lc);
        (((dict_head as u32) & ((1 << lp) - 1)) << lc) | (u32::from(prev) >> (8 - lc))
    }
}
