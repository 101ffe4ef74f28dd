// Weight-stationary tile: during load the first value that arrives is kept as the weight and load is passed
// east only after that, so the next tile keeps the next value; during execute out_s = a * w + in_n.
// mode 1 (2-bit activations): the tile keeps the first two values, the weight of channel 2r (b_q, for the
// low activation) then that of channel 2r+1 (b1_q, the high one), before passing load east.
module mac_tile #(parameter bw = 4, parameter psum_bw = 16) (
    input                    clk,
    input                    reset,
    input                    mode,
    input  [bw-1:0]          in_w,
    output [bw-1:0]          out_e,
    input  [1:0]             inst_w,    // [1] execute, [0] kernel load
    output [1:0]             inst_e,
    input  [psum_bw-1:0]     in_n,
    output [psum_bw-1:0]     out_s
);
    reg [1:0]         inst_q;
    reg [bw-1:0]      a_q, b_q, b1_q;
    reg [psum_bw-1:0] c_q;
    reg               load_ready_q;     // still waits for its (first) weight
    reg               load_ready1_q;    // mode 1: still waits for its second weight
    wire              wants1 = mode & load_ready1_q;

    always @(posedge clk) begin
        if (reset) begin
            inst_q       <= 2'b00;
            load_ready_q <= 1'b1;
            load_ready1_q <= 1'b1;
            a_q          <= {bw{1'b0}};
            b_q          <= {bw{1'b0}};
            b1_q         <= {bw{1'b0}};
            c_q          <= {psum_bw{1'b0}};
        end else begin
            inst_q[1] <= inst_w[1];
            c_q       <= in_n;
            if (inst_w[1] | inst_w[0]) a_q <= in_w;
            if (inst_w[0] & load_ready_q) begin
                b_q          <= in_w;
                load_ready_q <= 1'b0;
            end else if (inst_w[0] & wants1) begin
                b1_q          <= in_w;
                load_ready1_q <= 1'b0;
            end
            if (!load_ready_q && !wants1) inst_q[0] <= inst_w[0];
        end
    end

    mac #(.bw(bw), .psum_bw(psum_bw)) mac_instance (
        .mode(mode), .a(a_q), .b(b_q), .b1(b1_q), .c(c_q), .out(out_s));
    assign out_e  = a_q;
    assign inst_e = inst_q;
endmodule
