// MAC array: row r's instruction is delayed r cycles, like its L0 data; psums flow south, the last row's
// execute bits say which columns hold a fresh psum.
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
    wire [psum_bw*col*(row+1)-1:0] temp;
    wire [row*col-1:0]             valid_temp;
    wire [2*row-1:0]               inst_w_temp;
    reg  [2*row-3:0]               inst_delay;   // row r's instruction, r cycles late
    assign inst_w_temp = {inst_delay, inst_w};
    assign temp[psum_bw*col-1:0] = in_n;
    assign out_s = temp[psum_bw*col*(row+1)-1:psum_bw*col*row];
    assign valid = valid_temp[row*col-1:row*col-col];

    always @(posedge clk) begin
        if (reset) inst_delay <= {2*(row-1){1'b0}};
        else       inst_delay <= inst_w_temp[2*row-3:0];
    end

    genvar i;
    generate
        for (i = 1; i < row + 1; i = i + 1) begin : row_num
            mac_row #(.bw(bw), .psum_bw(psum_bw), .col(col)) mac_row_instance (
                .clk(clk), .reset(reset), .mode(mode), .os(os), .drain(drain),
                .in_w(in_w[bw*i-1:bw*(i-1)]),
                .inst_w(inst_w_temp[2*i-1:2*(i-1)]),
                .in_n(temp[psum_bw*col*i-1:psum_bw*col*(i-1)]), .out_s(temp[psum_bw*col*(i+1)-1:psum_bw*col*i]),
                .valid(valid_temp[col*i-1:col*(i-1)]));
        end
    endgenerate
endmodule
