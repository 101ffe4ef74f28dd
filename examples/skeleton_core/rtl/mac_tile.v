// Weight-stationary tile: during load the first value that arrives is kept as the weight and load is passed
// east only after that, so the next tile keeps the next value; during execute out_s = a * w + in_n.
// mode 1 (2-bit activations): the tile keeps the first two values, the weight of channel 2r (b_q, for the
// low activation) then that of channel 2r+1 (b1_q, the high one), before passing load east.
// os 1 (output-stationary, 4-bit): during execute the weight comes from the north (in_n[bw-1:0]) and goes
// on south, the activation from the west, and the tile adds a * w to its own sum c_q; drain moves every
// tile's sum one row south (out_s = c_q), so the last row's reach the OFIFO one row a cycle.
module mac_tile #(parameter bw = 4, parameter psum_bw = 16) (
    input                    clk,
    input                    reset,
    input                    mode,
    input                    os,
    input                    drain,
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
    wire [psum_bw-1:0] mac_out;

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
            if (inst_w[1] | inst_w[0]) a_q <= in_w;
            if (os) begin
                if (inst_w[1]) b_q <= in_n[bw-1:0];
                if (drain)          c_q <= in_n;
                else if (inst_q[1]) c_q <= mac_out;   // a_q and b_q hold this step's pair
            end else begin
                c_q <= in_n;
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
    end

    mac #(.bw(bw), .psum_bw(psum_bw)) mac_instance (
        .mode(mode), .a(a_q), .b(b_q), .b1(b1_q), .c(c_q), .out(mac_out));
    assign out_s  = !os ? mac_out : drain ? c_q : {{(psum_bw - bw){1'b0}}, b_q};
    assign out_e  = a_q;
    assign inst_e = inst_q;
endmodule
