// MAC array: row r's instruction is delayed r cycles, like its L0 data; psums flow south, the last row's
// execute bits say which columns hold a fresh psum.
// Wiring: every vector built from per-row parts is a chain of concatenations, one driver per net, not one
// net driven slice by slice (the course files' `temp[...]` style): Icarus resolves such a net bit by bit
// on every change (before this, 43% of vvp's samples in tb/byoc: docs/verification.md). Same ports, same
// cycles.
module mac_array #(parameter row = 8, parameter col = 8, parameter bw = 4, parameter psum_bw = 16) (
    input                       clk,
    input                       reset,
    input                       mode,
    input                       os,
    input                       drain,
    input  [bw*row-1:0]         in_w,
    input  [1:0]                inst_w,
    input  [psum_bw*col-1:0]    in_n,
    output [psum_bw*col-1:0]    out_s,
    output [col-1:0]            valid
);
    wire [2*row-1:0]               inst_w_temp;
    reg  [2*row-3:0]               inst_delay;   // row r's instruction, r cycles late
    assign inst_w_temp = {inst_delay, inst_w};

    always @(posedge clk) begin
        if (reset) inst_delay <= {2*(row-1){1'b0}};
        else       inst_delay <= inst_w_temp[2*row-3:0];
    end

    genvar i;
    generate
        for (i = 1; i < row + 1; i = i + 1) begin : row_num
            wire [psum_bw*col-1:0] p_n, p_s;    // this row's psums from the north, to the south
            wire [col-1:0]         v;           // its columns' fresh-psum bits
            if (i == 1) begin : g_first
                assign p_n = in_n;
            end else begin : g_next
                assign p_n = row_num[i-1].p_s;
            end
            mac_row #(.bw(bw), .psum_bw(psum_bw), .col(col)) mac_row_instance (
                .clk(clk), .reset(reset), .mode(mode), .os(os), .drain(drain),
                .in_w(in_w[bw*i-1:bw*(i-1)]),
                .inst_w(inst_w_temp[2*i-1:2*(i-1)]),
                .in_n(p_n), .out_s(p_s), .valid(v));
        end
    endgenerate
    assign out_s = row_num[row].p_s;
    assign valid = row_num[row].v;
endmodule
