// Auxiliary invariants for the unbounded proofs of core.v's invariants 0, 1, 2 and 4 (formal/core.sby, the
// prove_* tasks that read this file with -DCORE_INV). Invariants 0-2 and 4 are about counts -- credits in
// flight against vectors and tags held in FIFOs -- and k-induction alone starts from unreachable states where
// those counts disagree with what the array holds. The assertions below state the bookkeeping exactly; the
// solver proves them together with the core's own (nothing here is assumed).
//
// The checker reads the core's internal registers: core_top instantiates it with only clk and rst, and the
// script core_inv_2x2.ys drives every other input from the flattened design's registers (yosys `connect
// -set`, after `flatten`), as a `bind` would. The names there are those of a 2x2 core.
//
// Per column c, a vector the credits count (inflight) is in exactly one of these places:
//   of_count[c]  the OFIFO column
//   ws_c         a weight-stationary token on its way to the bottom of column c: at the sequencer's output,
//                in the array's input register (core.v's tok_q, lane 0), in row 0 left of column c (PE (0, c')
//                for c' < c), or a psum in column c (PE (r, c))
//   climb_c      an output-stationary sum climbing column c's drain chain (PE (r, c).up_v_out)
//   pend_c       an output-stationary sum still in PE (r, c)'s accumulator whose release is under way: a token
//                with `first` is upstream of the PE in row r (the sequencer's output, tok_q's lane r, row r's skew stages,
//                PE (r, c') for c' < c); it hands the sum to the chain when it arrives
// and the credits equal the tags: inflight == tag FIFO count + tags still to push (pend_n - pend_r).
// A token's first and os are read where its control is (mac_array.v's anti-diagonals, core.v's ctl_*: the skew
// and the PEs carry only activation and valid; core_inv_2x2.ys maps each place below to its diagonal).
// has_block of a PE with no `first` token upstream is what the sequencer's state says the last block that
// passed left there: the current block's rows (all but the last block fill every row; the last fills ow).
module core_inv #(
    parameter integer ROWS = 2, parameter integer COLS = 2, parameter integer CREDITS = 4
) (
    input wire clk, rst,
    input wire [$clog2(CREDITS+1)-1:0]      inflight,
    input wire [COLS*$clog2(CREDITS+1)-1:0] of_count,     // column c at [c*CNT +: CNT]
    input wire [$clog2(CREDITS+1)-1:0]      tag_count,
    // PE (r, c) at bit r*COLS + c
    input wire [ROWS*COLS-1:0] pe_v, pe_os, pe_first, pe_hb, pe_up,
    // the tokens in row r's skew stages (r of them), lane r stage s at bit r*(r-1)/2 + s: their first and os
    // (the weight-stationary count follows row 0, which has no skew stage)
    input wire [ROWS*(ROWS-1)/2-1:0] sk_first, sk_os,
    // the tokens in core.v's tok_q, the register in front of the skew: lane r's valid, the token's first and os
    input wire [ROWS-1:0] q_v, q_first, q_os,
    // the sequencer
    input wire        tok_valid, tok_os, tok_first,
    input wire [2:0]  state,
    input wire [7:0]  blk, oh, ow, pend_n, pend_r,
    input wire [15:0] t, t_last
);
    localparam integer CNT = $clog2(CREDITS + 1);
    localparam [2:0] S_IDLE = 3'd0, S_PRE = 3'd1, S_RUN = 3'd2, S_OS = 3'd3, S_FLUSH = 3'd4;

    reg f_past = 1'b0;
    always @(posedge clk) f_past <= 1'b1;

    // upstream `first` (output-stationary) tokens of PE (r, c), and the valid bit each row gets
    wire [ROWS*COLS-1:0] up_first;
    genvar r, c, s;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_r
            wire sk_any;
            if (r == 0) begin : g_noskew
                assign sk_any = 1'b0;
            end else begin : g_skew
                wire [r-1:0] hit;
                for (s = 0; s < r; s = s + 1) begin : g_s
                    assign hit[s] = sk_first[r*(r-1)/2 + s] && sk_os[r*(r-1)/2 + s];
                end
                assign sk_any = |hit;
            end
            for (c = 0; c < COLS; c = c + 1) begin : g_c
                if (c == 0) begin : g_c0
                    assign up_first[r*COLS] = (tok_first && tok_os) || (q_first[r] && q_os[r]) || sk_any;
                end else begin : g_cn
                    assign up_first[r*COLS + c] = up_first[r*COLS + c - 1] ||
                                                  (pe_first[r*COLS + c - 1] && pe_os[r*COLS + c - 1]);
                end
            end
        end
    endgenerate

    // what has_block must be at a PE no `first` token is heading for, by row
    wire [ROWS-1:0] expected;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_exp
            assign expected[r] = (state == S_OS) ? ((t != 16'd0) ? ((blk != oh - 8'd1) || ({24'd0, ow} > r))
                                                                 : (blk != 8'd0))
                               : (state == S_FLUSH) ? ({24'd0, ow} > r) : 1'b0;
        end
    endgenerate

    wire en = f_past && !rst;
    integer i, j;
    reg [7:0] ws, climb, pend;
    always @(*) begin
        // the sequencer's own bookkeeping of an output-stationary command
        if (en && (state == S_OS || state == S_FLUSH)) begin
            assert(ow >= 8'd1 && {24'd0, ow} <= ROWS && oh >= 8'd1);              // aux os command
            assert(t_last >= 16'd8 && t <= t_last);                               // aux os step
            assert(state == S_FLUSH ? (blk == oh && t == 16'd0) : (blk < oh));    // aux os block
        end
        if (en) assert(state <= S_FLUSH);                                         // aux state
        if (en) assert(pend_r <= pend_n && {24'd0, pend_n} <= ROWS);              // aux tags to push
        // credits == tags held + tags still to push
        if (en) assert({24'd0, inflight} == {{(32 - CNT){1'b0}}, tag_count} + {24'd0, pend_n - pend_r}); // aux credits tags
        for (j = 0; j < COLS; j = j + 1) begin
            ws    = {7'd0, tok_valid && !tok_os} + {7'd0, q_v[0] && !q_os[0]};
            climb = 8'd0;
            pend  = 8'd0;
            for (i = 0; i < j; i = i + 1)
                ws = ws + {7'd0, pe_v[i] && !pe_os[i]};
            for (i = 0; i < ROWS; i = i + 1) begin
                ws    = ws    + {7'd0, pe_v[i*COLS + j] && !pe_os[i*COLS + j]};
                climb = climb + {7'd0, pe_up[i*COLS + j]};
                pend  = pend  + {7'd0, pe_hb[i*COLS + j] && up_first[i*COLS + j]};
                if (en) assert(up_first[i*COLS + j] || pe_hb[i*COLS + j] == expected[i]); // aux has_block
            end
            // every credit is a vector somewhere on column j's way to the SFU
            if (en) assert({24'd0, inflight} == {{(32 - CNT){1'b0}}, of_count[j*CNT +: CNT]} + ws + climb + pend); // aux credits vectors
            // the tags still to push belong to vectors not yet in the OFIFO (so a vector never waits there
            // without its tag)
            if (en) assert(ws + climb + pend >= pend_n - pend_r);                 // aux tags first
        end
    end
endmodule
