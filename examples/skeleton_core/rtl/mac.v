// out = a * b + c: a unsigned activation, b two's complement weight.
module mac #(parameter bw = 4, parameter psum_bw = 16) (
    input  [bw-1:0]       a,
    input  [bw-1:0]       b,
    input  [psum_bw-1:0]  c,
    output [psum_bw-1:0]  out
);
    wire signed [bw:0]        a_pad   = {1'b0, a};
    wire signed [bw-1:0]      b_s     = b;
    wire signed [2*bw:0]      product = a_pad * b_s;
    assign out = c + {{(psum_bw - 2*bw - 1){product[2*bw]}}, product};
endmodule
