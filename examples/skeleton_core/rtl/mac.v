// out = c + a * b: a unsigned activation, b two's complement weight (mode 0).
// mode 1 (2-bit activations, course Part 2): the bw-bit activation word carries two bw/2-bit activations,
// input channel 2r in a[bw/2-1:0] (low) and channel 2r+1 in a[bw-1:bw/2] (high), each times its own
// weight: out = c + a_lo * b + a_hi * b1.
module mac #(parameter bw = 4, parameter psum_bw = 16) (
    input                 mode,
    input  [bw-1:0]       a,
    input  [bw-1:0]       b,      // mode 1: the weight of the low activation (channel 2r)
    input  [bw-1:0]       b1,     // mode 1: the weight of the high activation (channel 2r+1); unused in mode 0
    input  [psum_bw-1:0]  c,
    output [psum_bw-1:0]  out
);
    wire signed [bw:0]        a_pad   = {1'b0, a};
    wire signed [bw/2:0]      a_lo    = {1'b0, a[bw/2-1:0]};
    wire signed [bw/2:0]      a_hi    = {1'b0, a[bw-1:bw/2]};
    wire signed [bw-1:0]      b_s     = b;
    wire signed [bw-1:0]      b1_s    = b1;
    // both arms are evaluated at 2*bw+1 bits (signed operands sign-extended first): mode 1's sum of two
    // (bw/2+1) x bw products is smaller than mode 0's one product
    wire signed [2*bw:0]      product = mode ? a_lo * b_s + a_hi * b1_s : a_pad * b_s;
    assign out = c + {{(psum_bw - 2*bw - 1){product[2*bw]}}, product};
endmodule
